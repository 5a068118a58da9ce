/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import { openLibraryMenu } from "./library_crm_tour_steps";

/** A suggestion from the front desk to the submission for approval, by a
 * library manager who also heads the responsible unit; the approval and the
 * reply by a library leader (the proposer never approves). Triggers use names, not labels, so the
 * tour runs in any language. */
function pick(field, text) {
    return [
        {
            content: `Open ${field}`,
            trigger: `.o_field_widget[name=${field}] input`,
            run: "click",
        },
        {
            content: `Type in ${field}`,
            trigger: `.o_field_widget[name=${field}] input`,
            run: `edit ${text}`,
        },
        {
            content: `Pick ${text}`,
            trigger: `.o-autocomplete--dropdown-item:contains(${text})`,
            run: "click",
        },
        {
            content: `${text} is chosen`,
            trigger: `.o_field_widget[name=${field}]:not(:has(.o-autocomplete--dropdown-menu))`,
        },
    ];
}

function clickButton(name) {
    return [
        {
            content: `Click ${name}`,
            trigger: `.o_form_view .o_statusbar_buttons button[name=${name}]`,
            run: "click",
        },
    ];
}

function stateIs(state) {
    return {
        content: `The suggestion is ${state}`,
        trigger: `.o_statusbar_status button.o_arrow_button_current[data-value=${state}]`,
    };
}

registry.category("web_tour.tours").add("library_crm_suggestion_tour", {
    url: "/odoo",
    steps: () => [
        ...openLibraryMenu("menu_library_service_root", "menu_library_suggestions"),
        {
            content: "Record a new suggestion",
            trigger: "body:has(.o_library_suggestion_kanban) .o_control_panel_main_buttons .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Subject",
            trigger: ".o_field_widget[name=subject] input",
            run: "edit Tour: more power sockets",
        },
        ...pick("partner_id", "Reader Alpha"),
        ...pick("category_id", "Reading rooms"),
        {
            content: "What the reader said",
            trigger: ".o_field_html[name=description] .odoo-editor-editable",
            run: "editor The desks on floor 2 have no sockets.",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        stateIs("new"),
        ...clickButton("action_accept"),
        stateIs("assessed"),
        ...pick("user_id", "sug_manager"),
        ...clickButton("action_assign"),
        stateIs("assigned"),
        {
            content: "Open the solution tab",
            trigger: ".o_notebook_headers a[name=solution]",
            run: "click",
        },
        {
            content: "Propose a solution",
            trigger: ".o_field_html[name=solution] .odoo-editor-editable",
            run: "editor Add sockets to every desk on floor 2.",
        },
        ...clickButton("action_propose"),
        stateIs("proposed"),
        ...clickButton("action_submit_approval"),
        stateIs("approval"),
    ],
});

/** The leader approves it (never the proposer) and replies. */
registry.category("web_tour.tours").add("library_crm_suggestion_approval_tour", {
    url: "/odoo",
    steps: () => [
        ...openLibraryMenu("menu_library_service_root", "menu_library_suggestions"),
        {
            content: "Open the suggestion awaiting approval",
            trigger: ".o_kanban_record:contains(Tour: more power sockets)",
            run: "click",
        },
        stateIs("approval"),
        {
            content: "Approve",
            trigger: ".o_form_view .o_statusbar_buttons button.btn-primary:not([name^=action_])",
            run: "click",
        },
        {
            content: "Approval comment",
            trigger: ".modal .o_field_widget[name=comment] textarea",
            run: "edit Approved: budget from the equipment fund.",
        },
        {
            content: "Confirm the approval",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        stateIs("approved"),
        {
            content: "Open the reply tab",
            trigger: ".o_notebook_headers a[name=reply]",
            run: "click",
        },
        {
            content: "Write the reply",
            trigger: ".o_field_html[name=reply] .odoo-editor-editable",
            run: "editor Sockets were added to floor 2 this week.",
        },
        ...clickButton("action_done"),
        stateIs("done"),
    ],
});
