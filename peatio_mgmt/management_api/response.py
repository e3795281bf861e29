"""The Response of the management API: DRF's Response, its Content-Type set once.

DRF's Response first gets Django's default `text/html; charset=…` (a settings read and a header write), and its
`rendered_content` writes the header again and checks what the one renderer of this API never varies. Here the
header is the renderer's media type from the start (same value, same position among the headers: first), and
rendering is the renderer's call. Everything else — `data`, headers given by the action, rendering through
`accepted_renderer` set by `APIView.finalize_response`, `render()` by Django's handler — is DRF's.
"""

from __future__ import annotations

from django.template.response import SimpleTemplateResponse
from rest_framework import response

from peatio_mgmt.management_api.renderers import JSONRenderer

MEDIA_TYPE = JSONRenderer.media_type


class Response(response.Response):
    renderer_context: dict  # set by APIView.finalize_response (DRF's stubs do not declare it)

    def __init__(self, data=None, status: int | None = None, headers: dict | None = None):
        # no template, as DRF's Response passes it (the stubs want one)
        SimpleTemplateResponse.__init__(self, None, content_type=MEDIA_TYPE, status=status)  # type: ignore[arg-type]
        self.data = data
        self.exception = False
        self.content_type = None
        if headers:  # after Content-Type, as DRF's Response writes them
            for name, value in headers.items():
                self[name] = value

    @property
    def rendered_content(self) -> bytes:  # type: ignore[override]  # bytes, as DRF's (the stubs keep Django's str)
        renderer = self.accepted_renderer
        if renderer.media_type != MEDIA_TYPE:
            self["Content-Type"] = renderer.media_type
        context = self.renderer_context
        context["response"] = self
        return renderer.render(self.data, self.accepted_media_type, context)
