"""The algorithms a SAML document may use here: one table each, read by ``xml_guard``
before any library verifies, and by ``sp`` for what its metadata advertises.

SHA-1 is refused as a signature or digest (collisions are practical; pysaml2's own IdP
still signs with it by default), and so are 3DES and RSA PKCS#1 v1.5 key transport for
encrypted assertions (pysaml2's IdP encrypts with 3DES by default). Only the
enveloped-signature and exclusive-C14N transforms run (pysaml2#1035: xmlsec1 runs an XSLT
transform while it verifies).
"""

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

SIGNATURE_METHODS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
    }
)
DIGEST_METHODS = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)
TRANSFORMS = frozenset({"http://www.w3.org/2000/09/xmldsig#enveloped-signature", EXC_C14N})
CANONICALIZATIONS = frozenset({EXC_C14N})
#: Key transport and content encryption an encrypted assertion may use.
ENCRYPTION_METHODS = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm",
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    }
)
#: OAEP's own digest (SHA-1 here is the mask's hash, not a signature's).
OAEP_DIGESTS = frozenset({"http://www.w3.org/2000/09/xmldsig#sha1", *DIGEST_METHODS})
