"""The sans-I/O core: what a cookie is, what the policy says, what the visitor chose, what passes.

Nothing here reads a socket, a file on a request's path, a clock it was not given, or a framework:
the adapters (:mod:`consentware.wsgi`, :mod:`consentware.asgi`, :mod:`consentware.django`) hand
it normalised headers and apply the :class:`~consentware.Decision` it returns. A change to cookie
semantics lands here and nowhere else.
"""
