/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import { openLibraryMenu } from "./library_crm_tour_steps";

registry.category("web_tour.tours").add("library_crm_my_departments_tour", {
    url: "/odoo",
    steps: () => [
        ...openLibraryMenu("menu_library_liaison_root", "menu_library_my_departments"),
        {
            content: "My department is there with its teachers",
            trigger: ".o_kanban_record:contains(Chemistry) .o_library_teachers:contains(1)",
        },
        {
            content: "Not another librarian's department",
            trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains(Physics)))",
        },
        {
            content: "Log a contact with the department",
            trigger: ".o_kanban_record:contains(Chemistry) button[name=action_log_interaction]",
            run: "click",
        },
        {
            content: "Summary",
            trigger: ".modal .o_field_widget[name=summary] input",
            run: "edit Tour consultation",
        },
        {
            content: "Save",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Back on the workspace, the contact counts",
            trigger: ".o_kanban_record:contains(Chemistry) a.o_library_timeline:contains(1)",
        },
        {
            content: "Open the department's timeline",
            trigger: ".o_kanban_record:contains(Chemistry) a.o_library_timeline",
            run: "click",
        },
        {
            content: "The contact is in the timeline",
            trigger: ".o_list_view .o_data_row:contains(Tour consultation)",
        },
    ],
});
