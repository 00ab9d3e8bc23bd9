"""Currencies: the ISO 4217 active codes, once for the whole suite.

Codes are upper-case three-letter strings exactly as ISO 4217 writes them. Lower-case input
(``"cny"``) is refused, not normalised, in every service: a client that sends a code gets back
the code it sent, and there is one spelling of each code in storage and in events.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

# The active ISO 4217 currency codes (funds, precious metals and testing codes excluded), as of
# November 2026: XCG replaced ANG (2025), ZWG replaced ZWL (2024), VED is active beside VES, and BGN
# was withdrawn when Bulgaria adopted the euro (2026). A static
# list on purpose: it changes a few times a decade, and a dependency for 155 codes is not worth it.
ISO_4217 = frozenset(
    """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG
VED XCG
""".split()
)


def is_currency(code: str) -> bool:
    """Whether ``code`` is an active ISO 4217 code, spelled upper-case."""
    return code in ISO_4217


def check_currency(code: str) -> str:
    """``code`` itself when it is an active ISO 4217 code (upper-case), else ValueError."""
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (upper-case, e.g. 'CNY')")
    return code


Currency = Annotated[
    str,
    Field(min_length=3, max_length=3, examples=["CNY"], description="ISO 4217 code, upper-case"),
    AfterValidator(check_currency),
]
