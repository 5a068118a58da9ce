# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from .import_columns import check_upload_size, rejected_csv, reopen_action

SHOWN_ERRORS = 200


class LibraryMarcImport(models.TransientModel):
    _name = "library.marc.import"
    _description = "Import MARC File"

    file = fields.Binary(attachment=False)
    filename = fields.Char()
    file_format = fields.Selection(
        [("auto", "Detect"), ("iso2709", "ISO 2709 (.mrc, .iso)"), ("marcxml", "MARCXML (.xml)")],
        string="Format",
        default="auto",
        required=True,
    )
    encoding = fields.Selection(
        [("auto", "Detect (UTF-8 or GBK)"), ("utf-8", "UTF-8"), ("gb18030", "GBK / GB2312")],
        string="Character Set",
        default="auto",
        required=True,
    )
    state = fields.Selection(
        [("upload", "Upload"), ("done", "Done")], default="upload", required=True
    )
    read_count = fields.Integer(string="Records Read", readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    rejected_file = fields.Binary(string="Rejected Records", attachment=False, readonly=True)
    rejected_filename = fields.Char(readonly=True)
    error_ids = fields.One2many(
        "library.marc.import.error", "import_id", string="Rejected Records Shown"
    )

    def _check_manager(self):
        if not self.env.user.has_group("library_crm.group_library_manager"):
            raise AccessError(self.env._("Only library managers import catalogue records."))

    def action_import(self):
        self.ensure_one()
        self._check_manager()
        if not self.file:
            raise UserError(self.env._("Choose a MARC file (ISO 2709 or MARCXML) to import."))
        check_upload_size(self.env, self.file)
        content = base64.b64decode(self.file)
        file_format = self.file_format
        if file_format == "auto":
            file_format = (
                "marcxml" if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<" else "iso2709"
            )
        result = self.env["library.new.title"]._import_marc_records(
            content, fmt=file_format, encoding=None if self.encoding == "auto" else self.encoding
        )
        rejected = result["rejected"]
        values = {
            "state": "done",
            "read_count": result["read"],
            "created_count": result["created"],
            "updated_count": result["updated"],
            "unchanged_count": result["unchanged"],
            "rejected_count": len(rejected),
            "error_ids": [
                (0, 0, {"record_number": number or 0, "reason": reason})
                for number, reason in rejected[:SHOWN_ERRORS]
            ],
        }
        if rejected:
            stem = (self.filename or "records").rsplit(".", 1)[0]
            values["rejected_file"] = base64.b64encode(
                rejected_csv(self.env, [(number, reason, []) for number, reason in rejected])
            )
            values["rejected_filename"] = f"{stem}-rejected.csv"
        self.write(values)
        return reopen_action(self, self.env._("Import MARC File"))

    def action_view_titles(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_new_title"
        )
