"""A small LMS for tests and the demo: PyPI's ``lti1p3platform`` (an LTI 1.3 platform that
nobody here wrote), driven through a Flask shim, since it ships only Django and FastAPI
adapters.

The library builds and signs the launches, issues service tokens after verifying the
tool's client assertion against the tool's key set, and serves Assignment and Grade
Services and Names and Role Provisioning Services. The shim adds what 0.1.8 lacks: it
checks ``redirect_uri`` against the registration (the library does not), offers platform
storage (``lti.put_data``/``lti.get_data``) on its course page, and answers LTI Dynamic
Registration (the library has none; that part is the shim's own, written from the spec).
It avoids ``lti1p3platform.framework``, whose template module imports ``pkg_resources``.
"""

from .app import LmsState, create_lms_app, start_lms

__all__ = ["LmsState", "create_lms_app", "start_lms"]
