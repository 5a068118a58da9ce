/** License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { stepUtils } from "@web_tour/tour_utils";

/** Steps shared by the library tours: open the app, then a menu item of one
 * of its sections, found by xmlid so the tours run in any language. */
export function openLibraryMenu(section, item) {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Library CRM",
            trigger: '.o_app[data-menu-xmlid="library_crm.menu_library_crm_root"]',
            run: "click",
        },
        {
            content: `Open the ${section} menu`,
            trigger: `.o_menu_sections button[data-menu-xmlid="library_crm.${section}"]`,
            run: "click",
        },
        {
            content: `Open ${item}`,
            trigger: `.dropdown-item[data-menu-xmlid="library_crm.${item}"]`,
            run: "click",
        },
    ];
}
