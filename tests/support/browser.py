"""What a browser reports going wrong while a test drives it: console errors, uncaught
exceptions, failed requests and answers with an error status. Browser tests fail on any."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, ConsoleMessage, Request, Response, WebError


class BrowserProblems:
    """Listens to every page of a browser context and keeps a line per problem."""

    def __init__(self, context: BrowserContext) -> None:
        self.lines: list[str] = []
        self._expected: list[tuple[int, str]] = []
        context.on("console", self._console)
        context.on("weberror", self._page_error)
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)

    def expect_status(self, status: int, path: str) -> None:
        """An error answer the test provokes on purpose (e.g. a 409 it asserts on)."""
        self._expected.append((status, path))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            if not self._is_expected_console(message.text, where):
                self.lines.append(f"console error: {message.text} ({where})")

    def _page_error(self, error: WebError) -> None:
        self.lines.append(f"uncaught error: {error.error}")

    def _request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            # The browser cancelled it: the test navigated on, or a download took over.
            return
        self.lines.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_expected(response.status, response.url):
            self.lines.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def _is_expected(self, status: int, url: str) -> bool:
        return any(status == want and path in url for want, path in self._expected)

    def _is_expected_console(self, text: str, url: str) -> bool:
        # Chromium logs every error answer and failed request again as "Failed to load
        # resource: ..."; _response and _request_failed judge those (and know what is expected).
        return text.startswith("Failed to load resource:")
