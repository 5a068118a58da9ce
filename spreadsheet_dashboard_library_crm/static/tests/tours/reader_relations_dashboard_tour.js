/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

/**
 * The dashboard's figures against the ORM's: each figure is evaluated in the
 * dashboard's own spreadsheet model (as the screen shows it) and compared
 * with a count read through the ORM over JSON-RPC, without the period filter
 * (a relative period would make the comparison depend on the day), then with
 * the department filter set to the test's department.
 */

function dashboardModel() {
    const services = odoo.__WOWL_DEBUG__.root.env.services;
    return services.spreadsheet_dashboard_loader.getActiveDashboard().model;
}

async function evaluate(formula) {
    const model = dashboardModel();
    const sheetId = model.getters.getActiveSheetId();
    for (let attempt = 0; attempt < 100; attempt++) {
        const value = model.getters.evaluateFormula(sheetId, formula);
        if (value !== "Loading..." && !(value && value.value === "Loading...")) {
            return value && typeof value === "object" && "value" in value ? value.value : value;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${formula} is still loading`);
}

function searchCount(model, domain) {
    return rpc(`/web/dataset/call_kw/${model}/search_count`, {
        model,
        method: "search_count",
        args: [domain],
        kwargs: {},
    });
}

async function readGroupDistinct(model, domain, field) {
    const records = await rpc(`/web/dataset/call_kw/${model}/search_read`, {
        model,
        method: "search_read",
        args: [domain, [field]],
        kwargs: {},
    });
    return new Set(records.map((record) => record[field] && record[field][0])).size;
}

async function expectFigure(label, formula, expected) {
    const actual = await evaluate(formula);
    // An empty pivot cell is "" (no record); anything else must be a number.
    if (!(typeof actual === "number" || (actual === "" && expected === 0))) {
        throw new Error(`${label}: the dashboard shows ${JSON.stringify(actual)}, not a number`);
    }
    console.log(`${label}: ${actual} (ORM ${expected})`);
    if (Math.abs((actual || 0) - expected) > 1e-6) {
        throw new Error(`${label}: the dashboard shows ${actual}, the ORM counts ${expected}`);
    }
}

async function checkFigures(departmentDomain, usageDepartment, departmentField) {
    await expectFigure(
        "readers",
        '=PIVOT.VALUE(1,"__count:sum")',
        await searchCount("res.partner", [["is_reader", "=", true], ...departmentDomain])
    );
    await expectFigure(
        "core readers",
        '=PIVOT.VALUE(3,"__count:sum")',
        await searchCount("res.partner", [
            ["is_reader", "=", true],
            ["is_core_reader", "=", true],
            ...departmentDomain,
        ])
    );
    await expectFigure(
        "active readers",
        '=PIVOT.VALUE(2,"partner_id:count_distinct")',
        await readGroupDistinct(
            "library.usage",
            [["kind", "!=", "alert_click"], ["partner_id", "!=", false], ...usageDepartment],
            "partner_id"
        )
    );
    await expectFigure(
        "open suggestions",
        '=PIVOT.VALUE(6,"__count:sum")',
        await searchCount("library.suggestion", [["is_open", "=", true], ...departmentField])
    );
    await expectFigure(
        "overdue suggestions",
        '=PIVOT.VALUE(13,"__count:sum")',
        await searchCount("library.suggestion", [
            ["is_open", "=", true],
            ["is_overdue", "=", true],
            ...departmentField,
        ])
    );
    const answers = await searchCount("library.satisfaction.answer", departmentField);
    const satisfied = await searchCount("library.satisfaction.answer", [
        ["score", ">=", 4],
        ...departmentField,
    ]);
    await expectFigure("scored answers", '=PIVOT.VALUE(7,"__count:sum")', answers);
    await expectFigure(
        "satisfaction rate",
        '=IFERROR(PIVOT.VALUE(7,"satisfied:avg")/100,0)',
        answers ? satisfied / answers : 0
    );
    await expectFigure(
        "campaign recipients",
        '=PIVOT.VALUE(10,"__count:sum")',
        await searchCount("library.mailing.result", departmentField)
    );
    await expectFigure(
        "liaison contacts",
        '=PIVOT.VALUE(11,"__count:sum")',
        await searchCount("library.interaction", [["department_id", "!=", false], ...departmentField])
    );
    await expectFigure(
        "became long-term from growing",
        '=PIVOT.VALUE(4,"__count:sum","from_segment","growing")',
        await searchCount("library.segment.history", [
            ["change", "=", "segment"],
            ["to_segment", "=", "long_term"],
            ["from_segment", "=", "growing"],
            ...departmentField,
        ])
    );
}

registry.category("web_tour.tours").add("library_crm_dashboard_tour", {
    url: "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action",
    steps: () => [
        {
            content: "Open the Reader Relations dashboard",
            trigger: ".o_search_panel_category_value[data-name='读者关系']",
            run: "click",
        },
        {
            content: "The dashboard is drawn, with its filters",
            trigger: ".o_spreadsheet_dashboard_action .o-scorecard",
        },
        {
            content: "Every figure equals the ORM's, all periods",
            trigger: ".o_spreadsheet_dashboard_action .o-scorecard",
            run: async () => {
                const model = dashboardModel();
                const filters = model.getters.getGlobalFilters().map((filter) => filter.label);
                for (const label of ["Period", "Department", "Reader Category"]) {
                    // the labels as stored; the search bar shows them translated
                    if (!filters.includes(label)) {
                        throw new Error(`no ${label} filter: ${filters}`);
                    }
                }
                model.dispatch("SET_GLOBAL_FILTER_VALUE", { id: "lcrm-period", value: undefined });
                await checkFigures([], [], []);
            },
        },
        {
            content: "Filtered on one department (and its sub-units), still the ORM's",
            trigger: ".o_spreadsheet_dashboard_action .o-scorecard",
            run: async () => {
                const [department] = await rpc("/web/dataset/call_kw/library.department/search_read", {
                    model: "library.department",
                    method: "search_read",
                    args: [[["code", "=", "DASH-FAC"]], ["id"]],
                    kwargs: {},
                });
                dashboardModel().dispatch("SET_GLOBAL_FILTER_VALUE", {
                    id: "lcrm-department",
                    value: { operator: "child_of", ids: [department.id] },
                });
                const subtree = [["library_department_id", "child_of", department.id]];
                await checkFigures(
                    subtree,
                    [["partner_id.library_department_id", "child_of", department.id]],
                    [["department_id", "child_of", department.id]]
                );
                const readers = await evaluate('=PIVOT.VALUE(1,"__count:sum")');
                if (readers !== 3) {
                    throw new Error(`the test's faculty has 3 readers, the dashboard shows ${readers}`);
                }
            },
        },
    ],
});
