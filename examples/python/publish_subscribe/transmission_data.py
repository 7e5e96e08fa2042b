"""The payload of the publish_subscribe examples, the ctypes twin of the C++ examples'
TransmissionData (examples/publish_subscribe/transmission_data.hpp): the same name
(AXON_TYPE_NAME), fields, size and alignment, so Python and C++ processes share the service."""

import ctypes


class TransmissionData(ctypes.Structure):
    AXON_TYPE_NAME = "examples::TransmissionData"
    _fields_ = [("counter", ctypes.c_uint64), ("x", ctypes.c_int32), ("y", ctypes.c_int32),
                ("funky", ctypes.c_double)]
