/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

registry.category("web_tour.tours").add("library_crm_reader_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Library CRM",
            trigger: '.o_app[data-menu-xmlid="library_crm.menu_library_crm_root"]',
            run: "click",
        },
        {
            content: "Create a reader",
            trigger: ".o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Name",
            trigger: ".o_field_widget[name=name] :is(textarea, input)",
            run: "edit Tour Reader",
        },
        {
            content: "The reader form: no company type, tax ID or website",
            trigger: ".o_form_view:not(:has(.o_field_widget[name=company_type], .o_field_widget[name=vat], .o_field_widget[name=website]))",
        },
        {
            content: "Card number, typed with spaces and in lower case",
            trigger: ".o_field_widget[name=reader_card_number] input",
            run: "edit  tour-2026-001 ",
        },
        {
            content: "Category",
            trigger: ".o_field_widget[name=reader_category] :is(input, .o_select_menu_toggler)",
            run: "click",
        },
        {
            content: "Faculty, in Chinese: the librarian works in zh_CN",
            trigger: ".o_select_menu_item:contains(教师)",
            run: "click",
        },
        {
            content: "The category is set",
            trigger: ".o_field_widget[name=reader_category] input:value(教师)",
        },
        {
            content: "Department",
            trigger: ".o_field_widget[name=library_department_id] input",
            run: "edit Tour Physics",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(Tour Physics)",
            run: "click",
        },
        {
            content: "The department is set (its onchange has answered)",
            trigger: ".o_field_widget[name=library_department_id] input:value(Tour Physics)",
        },
        {
            content: "Major, offered from the department only",
            trigger: ".o_field_widget[name=library_major_id] input",
            run: "edit Optics",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(Tour Optics)",
            run: "click",
        },
        {
            content: "The major is set",
            trigger: ".o_field_widget[name=library_major_id] input:value(Tour Optics)",
        },
        {
            content: "Still a faculty member before saving",
            trigger: ".o_field_widget[name=reader_category] input:value(教师)",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved, card number normalised",
            trigger: ".o_form_saved .o_field_widget[name=reader_card_number] input:value(TOUR-2026-001)",
        },
        {
            content: "The new reader's stage is shown: never active (in Chinese)",
            trigger: ".o_form_saved .o_field_widget[name=reader_segment]:contains(从未到馆)",
        },
        {
            content: "Back to the readers",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "Scan or type the card number in the search box",
            trigger: ".o_searchview_input",
            run: "edit tour-2026-001",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "The reader is found by card number",
            trigger: ".o_kanban_record:contains(Tour Reader):contains(TOUR-2026-001)",
        },
        {
            content: "Only that reader",
            trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:not(.o_kanban_ghost):not(:contains(Tour Reader))))",
        },
        {
            content: "Open the reader",
            trigger: ".o_kanban_record:contains(Tour Reader)",
            run: "click",
        },
        {
            content: "The reader form shows the card number and the stage",
            trigger: ".o_form_view .o_field_widget[name=reader_card_number] input:value(TOUR-2026-001)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=reader_segment]:contains(从未到馆)",
        },
    ],
});
