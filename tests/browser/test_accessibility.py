from tests.browser.conftest import accessibility_problems


def test_the_accessibility_check_reports_serious_violations_and_passes_a_clean_page(page):
    page.set_content('<html lang="zh-CN"><title>测试</title><main><h1>测试</h1></main></html>')
    assert accessibility_problems(page) == []
    page.set_content(
        '<html lang="zh-CN"><title>测试</title><main><img src="data:,">'
        "<button></button></main></html>"
    )
    problems = accessibility_problems(page)
    assert any(p.startswith("image-alt (critical)") for p in problems), problems
    assert any(p.startswith("button-name (critical)") for p in problems), problems
