"""The one way browser tests open the navigation that Bootstrap folds away on a phone."""

from playwright.sync_api import Page, expect


def open_menu_if_folded(page: Page) -> None:
    toggler = page.get_by_role("button", name="菜单")
    if toggler.is_visible():
        toggler.click()
        # Bootstrap marks the menu .show only when its opening transition has ended; a
        # click on a link during the transition can be lost on a busy machine.
        expect(page.locator("#nav.collapse.show")).to_be_visible()
