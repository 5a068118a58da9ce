/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import { openLibraryMenu } from "./library_crm_tour_steps";

/** Pick `label` in the selection field `field` (the manager works in English). */
function choose(field, label) {
    return [
        {
            content: `Open ${field}`,
            trigger: `.o_field_widget[name=${field}] .o_select_menu_toggler`,
            run: "click",
        },
        {
            content: `Pick ${label}`,
            trigger: `.o_select_menu_menu .o_select_menu_item:contains(${label})`,
            run: "click",
        },
        {
            content: `${label} is chosen`,
            trigger: "body:not(:has(.o_select_menu_menu))",
        },
    ];
}

/** A library manager sets up the reader roster from a server folder and
 * hands it to the scheduler. */
registry.category("web_tour.tours").add("library_crm_import_source_tour", {
    url: "/odoo",
    steps: () => [
        ...openLibraryMenu("menu_library_configuration", "menu_library_import_sources"),
        {
            content: "New source",
            trigger: ".o_list_view .o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Campus roster tour",
        },
        ...choose("kind", "Reader Roster"),
        ...choose("location", "Server Folder"),
        {
            content: "The folder",
            trigger: ".o_field_widget[name=folder_path] input",
            run: "edit /srv/library/roster",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Run it now",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_run]",
            run: "click",
        },
        {
            content: "The run is handed to the scheduler",
            trigger: ".o_notification",
        },
    ],
});
