/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import { openLibraryMenu } from "./library_crm_tour_steps";

/** A manager invites the readers of one department to the satisfaction
 * survey. Triggers use names, not labels, so the tour runs in any language. */
registry.category("web_tour.tours").add("library_crm_survey_invitation_tour", {
    url: "/odoo",
    steps: () => [
        ...openLibraryMenu("menu_library_service_root", "menu_library_survey_invitation"),
        {
            content: "The shipped satisfaction survey is proposed",
            trigger: ".modal .o_field_widget[name=survey_id] input:not(:empty)",
        },
        {
            content: "Choose the department",
            trigger: ".modal .o_field_widget[name=department_ids] input",
            run: "edit Tour Chemistry",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Chemistry)",
            run: "click",
        },
        {
            content: "The preview counts the department's three readers",
            trigger: ".modal .o_field_widget[name=invite_count]:contains(3)",
        },
        {
            content: "Invite",
            trigger: ".modal button[name=action_invite]",
            run: "click",
        },
        {
            content: "Done: the dialog closes",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
