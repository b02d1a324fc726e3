"""A cookie policy for the gateway's HTTP clients: none of them keeps or sends a cookie."""

from __future__ import annotations

from http.cookiejar import CookiePolicy


class NoCookies(CookiePolicy):
    """Keep and send no cookie (every client of the gateway's: CoCalc's, an LMS's, an
    identity provider's). CoCalc's sign-up signs the caller in when an account with the
    same e-mail and password exists, and on ``/api/v2`` a sign-in cookie beats the API key: a
    client that kept it would act as that user from then on."""

    netscape = True
    rfc2965 = hide_cookie2 = False

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False

    def domain_return_ok(self, domain, request):
        return False

    def path_return_ok(self, path, request):
        return False
