"""Audience measurement and behaviour analytics presets, written from each vendor's cookie list.

These vendors' scripts set their cookies on the site itself, usually on the registrable domain
(``Domain=example.org``), so no rule names a vendor domain: where the site's cookies live is the
site's to say (``default_domains``). A cookie on the vendor's own domain is ``third_party``.
"""

from __future__ import annotations

from typing import Final

from ._advertising import MUID
from ._build import Preset, cookie, vendor

# https://support.google.com/analytics/answer/11397207 (GA4) and the Universal Analytics and
# server-side tagging cookie lists.
GOOGLE_ANALYTICS: Final[Preset] = vendor(
    "Google",
    "Audience measurement (Google Analytics)",
    "statistical",
    cookie("_ga", "Distinguishes visitors.", "2 years"),
    cookie("_ga_*", "Keeps the state of a visit (one cookie per property).", "2 years"),
    cookie("_gid", "Distinguishes visitors for a day (Universal Analytics).", "24 hours"),
    cookie("_gat*", "Throttles the request rate (Universal Analytics).", "1 minute"),
    cookie("_dc_gtm_*", "Throttles the request rate when loaded by Tag Manager.", "1 minute"),
    cookie("__utm*", "Visitor, visit and campaign state of the legacy ga.js.", "Up to 2 years"),
    cookie("FPID", "Distinguishes visitors (server-side tagging).", "2 years"),
    cookie("FPLC", "Links visits across the site's own domains (server-side).", "20 hours"),
)

# Hotjar's help centre, "Cookies set by the Hotjar tracking code".
HOTJAR: Final[Preset] = vendor(
    "Hotjar",
    "Behaviour analytics (Hotjar)",
    "statistical",
    cookie("_hjSessionUser_*", "Keeps the Hotjar visitor ID for this site.", "1 year"),
    cookie("_hjSession_*", "Holds the current visit's data.", "30 minutes"),
    cookie("_hjid", "Keeps the Hotjar visitor ID for this site (older script).", "1 year"),
    cookie("_hjFirstSeen", "Marks the first visit of a new visitor.", "30 minutes"),
    cookie("_hjAbsoluteSessionInProgress", "Detects the first page view of a visit.", "30 minutes"),
    cookie("_hj*", "Sampling, survey and feature-test state of Hotjar.", "Up to 1 year"),
)

# Matomo's FAQ on the cookies its JavaScript tracker creates.
MATOMO: Final[Preset] = vendor(
    "Matomo",
    "Audience measurement (Matomo)",
    "statistical",
    cookie("_pk_id.*", "Distinguishes visitors (one cookie per site).", "13 months"),
    cookie("_pk_ses.*", "Keeps the state of a visit.", "30 minutes"),
    cookie("_pk_ref.*", "Remembers the site that referred the visitor.", "6 months"),
    cookie("_pk_*", "Custom variables, heatmaps and the cookie test of Matomo.", "30 minutes"),
)

# https://learn.microsoft.com/en-us/clarity/setup-and-installation/cookie-list
MICROSOFT_CLARITY: Final[Preset] = vendor(
    "Microsoft",
    "Behaviour analytics (Microsoft Clarity)",
    "statistical",
    cookie("_clck", "Keeps the Clarity visitor ID and settings for this site.", "1 year"),
    cookie("_clsk", "Joins page views into one session recording.", "1 day"),
    cookie(
        "CLID",
        "Recognises a visitor across the sites that use Clarity.",
        "1 year",
        category="third_party",
        domains=["clarity.ms"],
    ),
    MUID,
)

# https://docs.snowplow.io/docs/sources/web-trackers/cookies-and-local-storage (``sp`` is the
# collector's network user ID).
SNOWPLOW: Final[Preset] = vendor(
    "Snowplow",
    "Audience measurement (Snowplow)",
    "statistical",
    cookie("_sp_id.*", "Distinguishes visitors and counts their visits.", "2 years"),
    cookie("_sp_ses.*", "Marks a visit in progress.", "30 minutes"),
    cookie("sp", "Distinguishes visitors (set by the site's Snowplow collector).", "1 year"),
)

# https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/website/javascript/identity
SEGMENT: Final[Preset] = vendor(
    "Twilio Segment",
    "Customer data (Segment Analytics.js)",
    "statistical",
    cookie("ajs_anonymous_id", "Distinguishes visitors who have not signed in.", "1 year"),
    cookie("ajs_user_id", "Remembers the signed-in visitor's ID.", "1 year"),
    cookie("ajs_group_id", "Remembers the visitor's organisation or account ID.", "1 year"),
)

# Mixpanel's JavaScript library: one cookie per project token, mp_<token>_mixpanel.
MIXPANEL: Final[Preset] = vendor(
    "Mixpanel",
    "Product analytics (Mixpanel)",
    "statistical",
    cookie(
        "re:mp_[0-9a-f]+_mixpanel",
        "Holds the visitor's ID and the properties sent with each event.",
        "1 year",
    ),
)

# Amplitude's Browser SDK: cookies named after the first ten characters of the API key.
AMPLITUDE: Final[Preset] = vendor(
    "Amplitude",
    "Product analytics (Amplitude)",
    "statistical",
    cookie("AMP_MKTG_*", "Holds the campaign and referrer that brought the visitor.", "1 year"),
    cookie("AMP_*", "Holds the device ID, user ID and the current visit.", "1 year"),
    cookie("amplitude_id_*", "Holds the device ID and visit (older SDK).", "1 year"),
)

# https://help.heap.io/data-privacy/data-privacy-faqs/what-cookies-does-heap-set-and-what-are-they-used-for/
HEAP: Final[Preset] = vendor(
    "Heap",
    "Product analytics (Heap)",
    "statistical",
    cookie("_hp2_id.*", "Distinguishes visitors.", "13 months"),
    cookie("_hp2_ses_props.*", "Holds the referrer and landing page of the visit.", "30 minutes"),
    cookie("_hp2_props.*", "Holds the properties the site attaches to events.", "13 months"),
    cookie(
        "_hp5_meta.*", "Holds the visitor's IDs and the current visit (heap.js 5).", "13 months"
    ),
    cookie("_hp5_event_props.*", "Holds event properties (heap.js 5).", "13 months"),
    cookie("_hp5_let.*", "Holds the time of the last event (heap.js 5).", "13 months"),
)

# https://help.fullstory.com/hc/en-us/articles/360020829513
FULLSTORY: Final[Preset] = vendor(
    "Fullstory",
    "Session recording (Fullstory)",
    "statistical",
    cookie("fs_uid", "Identifies the visitor and the visit for session replay.", "1 year"),
    cookie("fs_lua", "Records the time of the visitor's last action.", "30 minutes"),
    cookie("fs_cid", "Remembers the visitor's consent to Fullstory.", "1 year"),
)

# Crazy Egg's support article on the cookies its tracking script sets.
CRAZY_EGG: Final[Preset] = vendor(
    "Crazy Egg",
    "Heatmaps and recordings (Crazy Egg)",
    "statistical",
    cookie("_ce.s", "Identifies a recorded visit: its ID, host and start time.", "1 year"),
    cookie("_ce.clock_data", "Corrects for the visitor's clock when timing a visit.", "1 day"),
    cookie("_ce.*", "Cookie tests and checks of Crazy Egg's script.", "Up to 1 day"),
    cookie("_CEFT", "Remembers the page variants of an A/B test shown.", "1 year"),
    cookie("_ceir", "Tells whether the visitor has been here before.", "1 year"),
    cookie("cebs", "Tracks the current visit.", "Browser session"),
    cookie("cebsp_*", "Tracks the current visit's page views.", "Browser session"),
)

# Adobe Experience League: Adobe Analytics and Experience Cloud ID service cookies.
ADOBE_ANALYTICS: Final[Preset] = vendor(
    "Adobe",
    "Audience measurement (Adobe Analytics)",
    "statistical",
    cookie("s_cc", "Tests whether cookies are enabled.", "Browser session"),
    cookie("s_sq", "Records the link clicked on the previous page.", "Browser session"),
    cookie("s_vi", "Distinguishes visitors (set by the tracking server).", "2 years"),
    cookie("s_fid", "Distinguishes visitors when s_vi cannot be set.", "2 years"),
    cookie(
        "AMCV_*",
        "Holds the Experience Cloud visitor ID shared by Adobe's products.",
        "2 years",
        category="first_party",
        function="Visitor ID (Adobe Experience Cloud)",
    ),
    cookie(
        "AMCVS_*",
        "Marks that the Experience Cloud ID was set up in this visit.",
        "Browser session",
        category="first_party",
        function="Visitor ID (Adobe Experience Cloud)",
    ),
    cookie(
        "s_ecid",
        "A copy of the Experience Cloud visitor ID, kept on this site's domain.",
        "2 years",
        category="first_party",
        function="Visitor ID (Adobe Experience Cloud)",
    ),
)

# Yandex Metrica's help: the cookies the tag uses.
YANDEX_METRICA: Final[Preset] = vendor(
    "Yandex",
    "Audience measurement (Yandex Metrica)",
    "statistical",
    cookie("_ym_uid", "Distinguishes visitors.", "1 year"),
    cookie("_ym_d", "Records the date of the visitor's first visit.", "1 year"),
    cookie("_ym_isad", "Tells whether the visitor blocks ads.", "2 days"),
    cookie("_ym_visorc*", "Lets session replay record the visit.", "30 minutes"),
    cookie("_ym_*", "Checks, limits and debugging state of Metrica.", "Up to 1 day"),
    cookie(
        "yandexuid",
        "Recognises the visitor across Yandex services and sites.",
        "1 year",
        category="third_party",
        domains=["yandex.ru"],
    ),
    cookie(
        "ymex",
        "Holds when Yandex's visitor IDs were created.",
        "1 year",
        category="third_party",
        domains=["yandex.ru"],
    ),
)

#: Plausible sets no cookie at all (its opt-out flag is localStorage): nothing to declare. The
#: preset exists so a policy can say it uses Plausible and load.
PLAUSIBLE: Final[Preset] = {}
