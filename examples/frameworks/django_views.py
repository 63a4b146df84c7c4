"""Django: the callback view and its URL (include ``urlpatterns`` in your project's urls.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from sfn_callback_urls import CallbackHandler, CallbackRequest, Codec

callbacks = CallbackHandler(Codec.from_environment(), confirm_get=True)


# No CSRF token on this one view: the sealed URL is the credential. Its blob is authenticated,
# names one task and one action, and expires; a cross-site POST would have to carry it, and
# whoever holds it may click it anyway. The confirm page's button POSTs back to the same URL,
# so Django's check would refuse it (403) and leave the task waiting. Every other view keeps
# Django's CSRF protection.
@csrf_exempt
def respond(request: HttpRequest) -> HttpResponse:
    """Open the callback URL, complete the task and answer the page or JSON it asks for."""
    answer = callbacks.handle(
        CallbackRequest(
            method=request.method or "GET",
            query=request.META.get("QUERY_STRING", ""),
            headers=dict(request.headers),
            body=request.body,
            source_ip=request.META.get("REMOTE_ADDR"),
        )
    )
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


urlpatterns = [path("respond", respond)]
