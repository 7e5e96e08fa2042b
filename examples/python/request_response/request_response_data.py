"""The payloads and names of the request_response examples, the ctypes twins of the C++
examples' RequestData and ResponseData (examples/request_response/request_response_data.hpp):
the same names (AXON_TYPE_NAME), fields, size and alignment, so Python and C++ clients and
servers share the service."""

import ctypes
import sys
from pathlib import Path

import axon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/python
import examples_common as common  # noqa: E402


class RequestData(ctypes.Structure):
    """What the client asks: the request's number (0, 1, ...)."""
    AXON_TYPE_NAME = "examples::RequestData"
    _fields_ = [("number", ctypes.c_uint64)]


class ResponseData(ctypes.Structure):
    """One response of the stream that answers a request."""
    AXON_TYPE_NAME = "examples::ResponseData"
    _fields_ = [("request", ctypes.c_uint64),  # the number of the request it answers
                ("step", ctypes.c_uint64),     # 0, 1, ... within the stream
                ("value", ctypes.c_uint64)]    # request x (step + 1)


# The client notifies SERVICE/new_request after each request (the server sleeps in a WaitSet on
# it); the server notifies SERVICE/new_response after each response and each ended stream.
REQUEST_SUFFIX = "/new_request"
RESPONSE_SUFFIX = "/new_response"


def example_names(text):
    """(SERVICE, SERVICE/new_request, SERVICE/new_response) as ServiceNames; otherwise one error
    line saying why, and None."""
    service = common.name_or_complain(text)
    if service is None:
        return None
    try:
        return service, axon.ServiceName(text + REQUEST_SUFFIX), \
            axon.ServiceName(text + RESPONSE_SUFFIX)
    except axon.ServiceNameError:
        longest = axon.MAX_SERVICE_NAME_LENGTH - max(len(REQUEST_SUFFIX), len(RESPONSE_SUFFIX))
        # The words of the C++ examples (request_response_data.hpp).
        common.complain(f"service name {common.quoted(text)} is {len(text)} bytes, too long "
                        f'for this example: it also uses "SERVICE{RESPONSE_SUFFIX}" for '
                        f"notifications, and that must fit in {axon.MAX_SERVICE_NAME_LENGTH} "
                        f"bytes too, so SERVICE may have at most {longest} bytes")
        return None
