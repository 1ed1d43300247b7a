"""Group client addresses the way carriers hand them out, for per-address limits.

An IPv4 address is itself: Thai carriers put many phones behind one (CGNAT), so it must never
be widened. An IPv6 subscriber gets a whole prefix (a /64 on mobile networks) and can pick any
address in it, so counting single IPv6 addresses would let one phone look like millions; the
limits count the prefix instead. IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) count as the
IPv4 address they carry. Anything that does not parse (``unknown`` from a test client) is
counted as it is.
"""

from __future__ import annotations

import ipaddress

DEFAULT_IPV6_PREFIX = 64


def address_group(address: str, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> str:
    """The key per-address limits count: ``203.0.113.7`` or ``2001:db8:1:2::/64``."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        network = ipaddress.IPv6Network((ip, ipv6_prefix), strict=False)
        return str(network)
    return str(ip)
