"""Sign-in against the municipality's directory (LDAP / Active Directory), issue 19.

``settings`` reads ``EAKTE_LDAP_*``, ``config`` resolves a tenant's directory (its own row,
else the environment's), ``ldap_client`` speaks LDAP (ldap3, TLS verified), ``mapping`` turns
groups into roles and an org unit, ``signin`` signs people in and provisions them, ``sync``
is the nightly check that disables leavers.
"""
