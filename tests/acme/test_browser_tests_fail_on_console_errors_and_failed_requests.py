"""Every browser test fails on a console error, an uncaught exception, a failed request or an
error answer: the `page` fixture records them all (tests/support/browser.py)."""

import socket

import pytest

from tests.support.browser import BrowserProblems
from tests.support.waiting import wait_until


def _closed_port() -> int:
    """A port nothing listens on: bound once to find a free one, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.browser
def test_console_errors_exceptions_failed_requests_and_error_answers_are_recorded(
    browser, live_server
):
    context = browser.new_context(base_url=live_server.url)
    problems = BrowserProblems(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate("console.error('logged on purpose')")
    page.evaluate("setTimeout(() => { throw new Error('thrown on purpose') })")
    page.evaluate("fetch('/no-such-page/')")
    closed_port = _closed_port()
    page.evaluate(f"fetch('http://127.0.0.1:{closed_port}/').catch(() => null)")
    wait_until(lambda: len(problems.lines) >= 4, what=f"four problems, got {problems.lines}")
    context.close()

    text = "\n".join(problems.lines)
    assert "console error: logged on purpose" in text
    assert "uncaught error: thrown on purpose" in text
    assert f"HTTP 404: GET {live_server.url}/no-such-page/" in text
    refused = f"request failed: GET http://127.0.0.1:{closed_port}/: net::ERR_CONNECTION_REFUSED"
    assert refused in text


@pytest.mark.browser
def test_an_error_answer_a_test_expects_is_not_a_problem(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    problems = BrowserProblems(context)
    problems.expect_status(404, "/no-such-page/")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate("fetch('/no-such-page/').then((response) => response.status)")
    page.evaluate("fetch('/another-missing-page/')")
    wait_until(lambda: problems.lines, what="the unexpected 404")
    context.close()
    assert problems.lines == [f"HTTP 404: GET {live_server.url}/another-missing-page/"]
