"""Amounts in minor units, as Stripe counts them, and how people read them."""

from __future__ import annotations

#: Currencies without a minor unit: ``unit_amount=500`` means 500 yen, not 5.
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
#: Presentment currencies Stripe accepts for card payments; any other is refused.
SUPPORTED = frozenset(
    [
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "isk",
        "jmd",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "krw",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "usd",
        "uyu",
        "uzs",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
    ]
)
_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "aud": "A$", "cad": "CA$", "nzd": "NZ$"}
#: Stripe's minimum charge per currency (minor units); others default to 50.
_MINIMUMS = {"gbp": 30, "jpy": 50, "huf": 17500, "sek": 300, "nok": 300, "dkk": 250}


def minimum_charge(currency: str) -> int:
    """The smallest amount Stripe will charge in ``currency``."""
    return _MINIMUMS.get(currency, 50)


def format_amount(amount: int, currency: str) -> str:
    """``format_amount(500, "eur") == "€5.00"``."""
    if currency in ZERO_DECIMAL:
        number = f"{amount:,}"
    else:
        sign = "-" if amount < 0 else ""
        number = f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d}"
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
    return f"{number} {currency.upper()}"


def parse_major(text: str, currency: str) -> int | None:
    """Read "7.50" or "7,50" typed by a person as minor units; ``None`` if it is no amount."""
    cleaned = text.strip().replace(" ", "")
    for symbol in _SYMBOLS.values():
        cleaned = cleaned.removeprefix(symbol)
    cleaned = cleaned.replace(",", ".")
    whole, _, fraction = cleaned.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    if currency in ZERO_DECIMAL:
        return int(whole) if not fraction else None
    if len(fraction) > 2:
        return None
    return int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
