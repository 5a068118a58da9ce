#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Write the Reader Relations dashboard of spreadsheet_dashboard_library_crm.

The dashboard is an Odoo spreadsheet (JSON). It is generated from the
definitions below, so that a change is reviewed here and not in 1,000 lines
of JSON:  python3 scripts/build_dashboard.py  (rewrites the data file).

Every figure is an Odoo pivot, read live on the database with the viewer's
rights, and filtered by the dashboard's three filters: period, department
(with its sub-units) and reader category."""

import json
import pathlib

TARGET = (
    pathlib.Path(__file__).resolve().parent.parent
    / "spreadsheet_dashboard_library_crm/data/files/reader_relations_dashboard.json"
)

PERIOD, DEPARTMENT, CATEGORY = "lcrm-period", "lcrm-department", "lcrm-category"
GLOBAL_FILTERS = [
    {"id": PERIOD, "type": "date", "label": "Period", "defaultValue": "this_year"},
    {
        "id": DEPARTMENT,
        "type": "relation",
        "label": "Department",
        "modelName": "library.department",
        "domainOfAllowedValues": [],
    },
    {
        "id": CATEGORY,
        "type": "selection",
        "label": "Reader Category",
        "resModel": "res.partner",
        "selectionField": "reader_category",
    },
]


def matching(date=None, department=None, category=None):
    """The fields each filter applies to (None: the filter does not apply)."""
    result = {}
    if date:
        result[PERIOD] = {"chain": date, "type": "datetime" if date != "date" else "date"}
    if department:
        result[DEPARTMENT] = {"chain": department, "type": "many2one"}
    if category:
        result[CATEGORY] = {"chain": category, "type": "selection"}
    return result


def measure(field, aggregator):
    return {"id": f"{field}:{aggregator}", "fieldName": field, "aggregator": aggregator}


# formulaId: name, model, domain, rows, columns, measures, filter matching.
# The tests (spreadsheet_dashboard_library_crm/tests) read these pivots back
# from the shipped file and check each one against the ORM.
PIVOTS = {
    1: {
        "name": "Readers by stage and tier",
        "model": "res.partner",
        "domain": [["is_reader", "=", True]],
        "rows": [{"fieldName": "reader_segment"}],
        "columns": [{"fieldName": "value_tier"}],
        "measures": [measure("__count", "sum")],
        "fieldMatching": matching(department="library_department_id", category="reader_category"),
    },
    2: {
        "name": "Active readers by month",
        "model": "library.usage",
        "domain": [["kind", "!=", "alert_click"], ["partner_id", "!=", False]],
        "rows": [{"fieldName": "occurred_at", "granularity": "month", "order": "asc"}],
        "columns": [],
        "measures": [measure("partner_id", "count_distinct"), measure("__count", "sum")],
        "fieldMatching": matching(
            "occurred_at", "partner_id.library_department_id", "partner_id.reader_category"
        ),
    },
    3: {
        "name": "Core readers",
        "model": "res.partner",
        "domain": [["is_reader", "=", True], ["is_core_reader", "=", True]],
        "rows": [],
        "columns": [],
        "measures": [measure("__count", "sum")],
        "fieldMatching": matching(department="library_department_id", category="reader_category"),
    },
    4: {
        "name": "Readers who became long-term",
        "model": "library.segment.history",
        "domain": [["change", "=", "segment"], ["to_segment", "=", "long_term"]],
        "rows": [{"fieldName": "from_segment"}],
        "columns": [],
        "measures": [measure("__count", "sum")],
        "fieldMatching": matching("date", "department_id", "reader_category"),
    },
    5: {
        "name": "Suggestions by state",
        "model": "library.suggestion",
        "domain": [],
        "rows": [{"fieldName": "state"}],
        "columns": [],
        "measures": [
            measure("__count", "sum"),
            measure("overdue_share", "avg"),
            measure("reply_days", "avg"),
        ],
        "fieldMatching": matching("submission_date", "department_id", "reader_category"),
    },
    6: {
        "name": "Open suggestions",
        "model": "library.suggestion",
        "domain": [["is_open", "=", True]],
        "rows": [],
        "columns": [],
        "measures": [measure("__count", "sum")],
        "fieldMatching": matching("submission_date", "department_id", "reader_category"),
    },
    7: {
        "name": "Satisfaction by quarter",
        "model": "library.satisfaction.answer",
        "domain": [],
        "rows": [{"fieldName": "date", "granularity": "quarter", "order": "asc"}],
        "columns": [],
        "measures": [
            measure("__count", "sum"),
            measure("score", "avg"),
            measure("satisfied", "avg"),
        ],
        "fieldMatching": matching("date", "department_id", "reader_category"),
    },
    9: {
        "name": "NPS by quarter",
        "model": "library.satisfaction.response",
        "domain": [],
        "rows": [{"fieldName": "date", "granularity": "quarter", "order": "asc"}],
        "columns": [],
        "measures": [
            measure("__count", "sum"),
            measure("nps_value", "avg"),
            measure("overall_score", "avg"),
        ],
        "fieldMatching": matching("date", "department_id", "reader_category"),
    },
    10: {
        "name": "Campaign reach",
        "model": "library.mailing.result",
        "domain": [],
        "rows": [{"fieldName": "mailing_id"}],
        "columns": [],
        "measures": [
            measure("__count", "sum"),
            measure("opened", "avg"),
            measure("clicked", "avg"),
        ],
        "fieldMatching": matching("sent_date", "department_id", "reader_category"),
    },
    11: {
        "name": "Liaison coverage",
        "model": "library.interaction",
        "domain": [["department_id", "!=", False]],
        "rows": [{"fieldName": "department_id"}],
        "columns": [],
        "measures": [measure("__count", "sum"), measure("partner_id", "count_distinct")],
        "fieldMatching": matching("date", "department_id", "partner_id.reader_category"),
    },
    12: {
        "name": "Ratings of replies",
        "model": "library.suggestion",
        "domain": [["rating_last_value", ">", 0]],
        "rows": [],
        "columns": [],
        "measures": [measure("__count", "sum"), measure("rating_last_value", "avg")],
        "fieldMatching": matching("submission_date", "department_id", "reader_category"),
    },
    13: {
        "name": "Overdue open suggestions",
        "model": "library.suggestion",
        "domain": [["is_open", "=", True], ["is_overdue", "=", True]],
        "rows": [],
        "columns": [],
        "measures": [measure("__count", "sum")],
        "fieldMatching": matching("submission_date", "department_id", "reader_category"),
    },
}

# Scorecards: (title, formula on the Data sheet, number format)
KPIS = [
    ("Active Readers", '=PIVOT.VALUE(2,"partner_id:count_distinct")', "#,##0"),
    ("Core Readers", '=PIVOT.VALUE(3,"__count:sum")', "#,##0"),
    (
        "Growing -> Long-term",
        '=PIVOT.VALUE(4,"__count:sum","from_segment","growing")+0',
        "#,##0",
    ),
    ("Open Suggestions", '=PIVOT.VALUE(6,"__count:sum")', "#,##0"),
    ("Overdue Suggestions", '=PIVOT.VALUE(13,"__count:sum")', "#,##0"),
    ("Days to First Reply", '=PIVOT.VALUE(5,"reply_days:avg")', "0.0"),
    (
        "Satisfaction Rate",
        '=IFERROR(PIVOT.VALUE(7,"satisfied:avg")/100,"")',
        "0.0%",
    ),
    ("NPS", '=PIVOT.VALUE(9,"nps_value:avg")', "0"),
    ("Reply Rating (of 5)", '=PIVOT.VALUE(12,"rating_last_value:avg")', "0.0"),
    ("Campaign Recipients", '=PIVOT.VALUE(10,"__count:sum")', "#,##0"),
    ("Campaign Click Rate", '=PIVOT.VALUE(10,"clicked:avg")/100', "0.0%"),
    ("Liaison Contacts", '=PIVOT.VALUE(11,"__count:sum")', "#,##0"),
]

STAGES = ["new", "growing", "long_term", "short_term", "lapsed", "never_active"]
TIERS = ["core", "important", "ordinary"]

# Tables on the dashboard: (row, title, formula, column titles). The
# pivots spill without their own titles (a pivot's name is not translated):
# the column titles above them are.
TABLES = [
    (28, "Active Readers by Month", "=PIVOT(2, 14, TRUE, FALSE)", ["Month", "Readers", "Uses"]),
    (
        46,
        "Readers Who Became Long-term, by Previous Stage",
        "=PIVOT(4, 10, TRUE, FALSE)",
        ["Previous Stage", "Readers"],
    ),
    (
        56,
        "Suggestions",
        "=PIVOT(5, 12, TRUE, FALSE)",
        ["State", "Suggestions", "Overdue (%)", "Days to First Reply"],
    ),
    (
        70,
        "Satisfaction by Quarter",
        "=PIVOT(7, 8, TRUE, FALSE)",
        ["Quarter", "Scored Answers", "Average Score (1-5)", "Satisfaction Rate (%)"],
    ),
    (
        82,
        "NPS by Quarter",
        "=PIVOT(9, 8, TRUE, FALSE)",
        ["Quarter", "Responses", "NPS", "Overall (1-5)"],
    ),
    (
        94,
        "Campaigns",
        "=PIVOT(10, 10, TRUE, FALSE)",
        ["Mailing", "Recipients", "Opened (%)", "Clicked (%)"],
    ),
    (
        108,
        "Liaison Coverage per Department",
        "=PIVOT(11, 20, TRUE, FALSE)",
        ["Department", "Contacts Logged", "Readers Reached"],
    ),
]


def stage_tier_matrix(cells, styles, row):
    """Readers by stage (rows) and tier (columns), every cell a PIVOT.VALUE:
    all stages and tiers always show, in the seeds' order, translated."""
    cells[f"A{row}"] = '=_t("Readers by Lifecycle Stage and Value Tier")'
    styles[f"A{row}:F{row}"] = 1
    header = row + 1
    cells[f"A{header}"] = '=_t("Lifecycle Stage")'
    for index, tier in enumerate(TIERS):
        cells[f"{col(index + 1)}{header}"] = f'=PIVOT.HEADER(1,"value_tier","{tier}")'
    cells[f"E{header}"] = '=_t("Total")'
    styles[f"A{header}"] = 2
    styles[f"B{header}:E{header}"] = 3
    for offset, stage in enumerate([*STAGES, None]):
        line = header + 1 + offset
        if stage:
            cells[f"A{line}"] = f'=PIVOT.HEADER(1,"reader_segment","{stage}")'
            where = f',"reader_segment","{stage}"'
        else:
            cells[f"A{line}"] = '=_t("Total")'
            styles[f"A{line}:E{line}"] = 2
            where = ""
        for index, tier in enumerate(TIERS):
            cells[f"{col(index + 1)}{line}"] = (
                f'=PIVOT.VALUE(1,"__count:sum"{where},"value_tier","{tier}")'
            )
        cells[f"E{line}"] = f'=PIVOT.VALUE(1,"__count:sum"{where})'


def col(index):
    return "ABCDEFGHIJ"[index]


def build():
    cells = {}
    styles = {}
    figures = []
    data_cells = {"A1": '=_t("Indicator")', "B1": '=_t("Value")'}
    data_formats = {}
    formats = {"1": "#,##0", "2": "0.0", "3": "0.0%", "4": "0"}
    format_ids = {"#,##0": 1, "0.0": 2, "0.0%": 3, "0": 4}
    for index, (title, formula, number_format) in enumerate(KPIS):
        row = index + 2
        data_cells[f"A{row}"] = f'=_t("{title}")'
        data_cells[f"B{row}"] = formula
        data_formats[f"B{row}"] = format_ids[number_format]
        figures.append(
            {
                "id": f"lcrm-kpi-{index + 1}",
                "col": 0,
                "row": 0,
                "offset": {"x": 245 * (index % 4), "y": 10 + 112 * (index // 4)},
                "width": 235,
                "height": 102,
                "tag": "chart",
                "data": {
                    "type": "scorecard",
                    "chartId": f"lcrm-chart-{index + 1}",
                    "title": {"text": title, "bold": True},
                    "background": "#EFF6FF",
                    "baselineMode": "difference",
                    "baselineColorUp": "#43C5B1",
                    "baselineColorDown": "#EA6175",
                    "keyValue": f"Data!B{row}",
                    "humanize": False,
                },
            }
        )
    stage_tier_matrix(cells, styles, 16)
    for row, title, formula, titles in TABLES:
        cells[f"A{row}"] = f'=_t("{title}")'
        styles[f"A{row}:F{row}"] = 1
        for index, text in enumerate(titles):
            cells[f"{col(index)}{row + 1}"] = f'=_t("{text}")'
        styles[f"A{row + 1}"] = 2
        styles[f"B{row + 1}:F{row + 1}"] = 3
        cells[f"A{row + 2}"] = formula
    pivots = {}
    for formula_id, definition in PIVOTS.items():
        pivots[str(formula_id)] = {
            "type": "ODOO",
            "id": str(formula_id),
            "formulaId": str(formula_id),
            "context": {},
            **definition,
        }
    sheet_common = {
        "merges": [],
        "borders": {},
        "conditionalFormats": [],
        "dataValidationRules": [],
        "tables": [],
        "areGridLinesVisible": False,
        "isVisible": True,
        "headerGroups": {"ROW": [], "COL": []},
        "comments": {},
    }
    dashboard = {
        "id": "lcrm-dashboard",
        "name": "Dashboard",
        "colNumber": 6,
        "rowNumber": 130,
        "rows": {},
        "cols": {"0": {"size": 300}, **{str(i): {"size": 135} for i in range(1, 6)}},
        "cells": cells,
        "styles": styles,
        "formats": {},
        "figures": figures,
        **sheet_common,
    }
    data = {
        "id": "lcrm-data",
        "name": "Data",
        "colNumber": 4,
        "rowNumber": 20,
        "rows": {},
        "cols": {"0": {"size": 220}, "1": {"size": 120}},
        "cells": data_cells,
        "styles": {},
        "formats": data_formats,
        "figures": [],
        **sheet_common,
        "areGridLinesVisible": True,
    }
    return {
        "version": "18.5.10",
        "sheets": [dashboard, data],
        "styles": {
            "1": {"bold": True, "fontSize": 16, "textColor": "#01666B"},
            "2": {"bold": True, "textColor": "#434343"},
            "3": {"bold": True, "textColor": "#434343", "align": "right"},
        },
        "formats": formats,
        "borders": {},
        "revisionId": "START_REVISION",
        "uniqueFigureIds": True,
        "settings": {
            "locale": {
                "name": "English (US)",
                "code": "en_US",
                "thousandsSeparator": ",",
                "decimalSeparator": ".",
                "dateFormat": "mm/dd/yyyy",
                "timeFormat": "hh:mm:ss",
                "formulaArgSeparator": ",",
                "weekStart": 1,
            }
        },
        "pivots": pivots,
        "pivotNextId": max(PIVOTS) + 1,
        "customTableStyles": {},
        "globalFilters": GLOBAL_FILTERS,
        "lists": {},
        "listNextId": 1,
        "chartOdooMenusReferences": {},
    }


if __name__ == "__main__":
    TARGET.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(TARGET)
