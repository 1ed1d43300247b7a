"""What every feature uses and no feature owns.

Thai mobile numbers and masking (``phone``), the audit-log writer (``audit``), sealing values
under the key ring (``sealing``), tracking tokens and the one tracking-link builder
(``tracking_links``), request numbers (``request_numbers``), Bangkok time (``clock``) and the
grouping of client addresses for per-address limits (``client_net``). Kernel modules import the
foundation (``settings``, ``keyring``, ``db``, ``tables``) and each other, never a feature:
``tests/test_layers.py`` holds them to it.
"""
