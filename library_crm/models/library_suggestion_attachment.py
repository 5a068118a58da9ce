# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One policy for the files a reader attaches to a suggestion, whether from
the submission form or the portal chatter: how many, how large, which types
(checked on the content, so a renamed web page or script is refused)."""

from odoo import models
from odoo.exceptions import UserError
from odoo.tools.mimetypes import guess_mimetype

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_MAX_FILES = 3
ATTACHMENT_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".gif", ".txt", ".doc", ".docx", ".xlsx")
ATTACHMENT_MIMETYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.",
)


def attachment_error(env, name, content, size=None):
    """Why a reader's file is refused, or None. content may be only the
    start of the file when size gives its full length."""
    name = name or ""
    size = len(content) if size is None else size
    if size > ATTACHMENT_MAX_BYTES:
        return env._(
            "%(name)s is larger than %(size)s MB.",
            name=name,
            size=ATTACHMENT_MAX_BYTES // (1024 * 1024),
        )
    if not name.lower().endswith(ATTACHMENT_EXTENSIONS) or not guess_mimetype(content).startswith(
        ATTACHMENT_MIMETYPES
    ):
        return env._("%(name)s: this type of file is not accepted.", name=name)
    return None


class LibrarySuggestion(models.Model):
    _inherit = "library.suggestion"

    def _check_reader_attachments(self, attachments=None, attachment_ids=None):
        """Apply the reader attachment policy to a post by a portal or public
        user: files given as (name, content[, info]) and existing attachments
        by id. Library staff are not limited."""
        if self.env.user._is_internal():
            return
        files = []
        for attachment in attachments or ():
            content = attachment[1]
            if isinstance(content, str):
                content = content.encode()
            files.append((attachment[0], content, len(content)))
        # sudo: ir.attachment - the policy reads the files the post links.
        records = self.env["ir.attachment"].sudo().browse(attachment_ids or ()).exists()
        for record in records:
            # A file over the size limit is refused unread.
            too_large = record.file_size > ATTACHMENT_MAX_BYTES
            content = b"" if too_large else (record.raw or b"")
            files.append((record.name, content, record.file_size))
        if len(files) > ATTACHMENT_MAX_FILES:
            raise UserError(
                self.env._("Attach at most %(count)s files.", count=ATTACHMENT_MAX_FILES)
            )
        for name, content, size in files:
            if error := attachment_error(self.env, name, content, size):
                raise UserError(error)

    def message_post(self, **kwargs):
        self._check_reader_attachments(kwargs.get("attachments"), kwargs.get("attachment_ids"))
        return super().message_post(**kwargs)

    def _message_update_content(self, message, /, *, body, attachment_ids=None, **kwargs):
        self._check_reader_attachments(attachment_ids=attachment_ids)
        return super()._message_update_content(
            message, body=body, attachment_ids=attachment_ids, **kwargs
        )
