"""The sans-I/O HTTP surface: the consent routes, the banner, the policy page, Consent Mode.

It answers an :class:`~consentware.web.endpoint.EndpointRequest` with an
:class:`~consentware.web.endpoint.EndpointResponse`; the adapters move the bytes.
"""
