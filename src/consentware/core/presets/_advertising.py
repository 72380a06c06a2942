"""Advertising presets: ad pixels, conversion tags and ad networks, all ``third_party``.

An ad pixel stores its own identifiers as first-party cookies of the site (``_fbp``,
``_gcl_au``): they are ``third_party`` all the same, set for the advertising network, and so
refused under ``Sec-GPC: 1``. Cookies on the network's own domain name that domain; consentware
never sees them on a request, and lists them so the policy page is complete. Names too generic
to be the vendor's alone (``fr``, ``uid``, ``test_cookie``) are left out, so a preset never
claims a site's own cookie.
"""

from __future__ import annotations

from typing import Any, Final

from ._build import Preset, cookie, vendor

# Microsoft's browser ID, shared by Microsoft Advertising and Clarity: one text for both, so the
# order of the two presets never changes what the policy says.
MUID: Final[dict[str, Any]] = cookie(
    "MUID",
    "Identifies the browser on Microsoft's sites, for advertising and measurement.",
    "13 months",
    category="third_party",
    provider="Microsoft",
    function="Advertising and measurement (Microsoft)",
    domains=["bing.com", "clarity.ms"],
)

# Google's "How Google uses cookies" (policies.google.com/technologies/cookies).
GOOGLE_ADS: Final[Preset] = vendor(
    "Google",
    "Advertising (Google Ads)",
    "third_party",
    cookie("_gcl_au", "Measures ad conversions (conversion linker).", "90 days"),
    cookie("_gcl_aw", "Stores the Google Ads click that brought the visitor.", "90 days"),
    cookie("_gcl_dc", "Stores the Display & Video 360 or Campaign Manager click.", "90 days"),
    cookie("_gcl_*", "Other ad clicks and conversion state of Google's tags.", "90 days"),
    cookie("_gac_*", "Campaign data shared between Google Analytics and Ads.", "90 days"),
    cookie("FPAU", "Measures ad conversions (server-side tagging).", "90 days"),
    cookie("FPGCL*", "Stores the ad click (server-side tagging).", "90 days"),
)

# Google's "How Google uses cookies" (IDE, DSID; __gads and __gpi on publishers' sites).
DOUBLECLICK: Final[Preset] = vendor(
    "Google",
    "Advertising (Google Ad Manager, DoubleClick)",
    "third_party",
    cookie(
        "IDE",
        "Shows and measures Google ads across sites.",
        "13 months in the EEA, UK and Switzerland; 24 months elsewhere",
        domains=["doubleclick.net"],
    ),
    cookie(
        "DSID",
        "Recognises a signed-in Google user on other sites, to respect their ad settings.",
        "2 weeks",
        domains=["doubleclick.net"],
    ),
    cookie("__gads", "Measures ads shown on this site and caps how often they show.", "13 months"),
    cookie("__gpi", "Identifies the visitor for ads shown on this site.", "13 months"),
)

# https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc/
META_PIXEL: Final[Preset] = vendor(
    "Meta",
    "Advertising (Meta Pixel)",
    "third_party",
    cookie("_fbp", "Identifies the browser to deliver and measure Meta ads.", "90 days"),
    cookie("_fbc", "Stores the Facebook or Instagram ad click (fbclid).", "90 days"),
)

# https://www.linkedin.com/legal/l/cookie-table
LINKEDIN_INSIGHT: Final[Preset] = vendor(
    "LinkedIn",
    "Advertising (LinkedIn Insight Tag)",
    "third_party",
    cookie("li_fat_id", "Stores the LinkedIn ad click, to attribute conversions.", "30 days"),
    cookie("li_giant", "Identifies a group of LinkedIn members, for conversions.", "7 days"),
    cookie(
        "li_sugr",
        "Matches a visitor who is not a member, outside the EU.",
        "90 days",
        domains=["linkedin.com"],
    ),
    cookie("bcookie", "Identifies the browser to LinkedIn.", "1 year", domains=["linkedin.com"]),
    cookie("lidc", "Chooses LinkedIn's data centre.", "24 hours", domains=["linkedin.com"]),
    cookie(
        "UserMatchHistory",
        "Syncs LinkedIn's ad identifiers with partners.",
        "30 days",
        domains=["linkedin.com"],
    ),
    cookie(
        "AnalyticsSyncHistory",
        "Records when the visitor's ID was last synced for LinkedIn's analytics.",
        "30 days",
        domains=["linkedin.com"],
    ),
)

# https://ads.tiktok.com/help/article?aid=10007540 ("Cookies expire after 13 months").
TIKTOK_PIXEL: Final[Preset] = vendor(
    "TikTok",
    "Advertising (TikTok Pixel)",
    "third_party",
    cookie("_ttp", "Identifies the browser to measure and target TikTok ads.", "13 months"),
    cookie("_tt_enable_cookie", "Tests whether TikTok's cookies can be set.", "13 months"),
    cookie(
        "ttwid", "Identifies the browser to TikTok's services.", "1 year", domains=["tiktok.com"]
    ),
)

# Pinterest's help: "Pinterest tag cookies".
PINTEREST: Final[Preset] = vendor(
    "Pinterest",
    "Advertising (Pinterest Tag)",
    "third_party",
    cookie("_pin_unauth", "Identifies a visitor without a Pinterest account, for ads.", "1 year"),
    cookie("_epik", "Stores the Pinterest ad click.", "1 year"),
    cookie("_derived_epik", "Stores a match the tag made when no click was stored.", "1 year"),
    cookie(
        "_pinterest_ct_ua",
        "Groups the actions of visitors Pinterest cannot identify.",
        "1 year",
        domains=["ct.pinterest.com"],
    ),
    cookie(
        "_pinterest_sess",
        "Keeps a Pinterest user signed in, read by the tag.",
        "1 year",
        domains=["pinterest.com"],
    ),
)

# Microsoft Advertising's help on UET tag cookies.
BING_ADS: Final[Preset] = vendor(
    "Microsoft",
    "Advertising (Microsoft Advertising UET)",
    "third_party",
    cookie("_uetsid", "Identifies the visit, to attribute conversions and remarket.", "1 day"),
    cookie("_uetvid", "Identifies the visitor across visits, for conversions.", "13 months"),
    cookie("_uetmsclkid", "Stores the Microsoft Advertising click (msclkid).", "90 days"),
    MUID,
)

# X's help on conversion tracking (_twclid) and the Open Cookie Database (t.co, x.com).
TWITTER_PIXEL: Final[Preset] = vendor(
    "X (Twitter)",
    "Advertising (X Pixel)",
    "third_party",
    cookie("_twclid", "Stores the X ad click, to attribute conversions.", "30 days"),
    cookie("muc_ads", "Identifies the browser for X ads.", "2 years", domains=["t.co"]),
    cookie(
        "personalization_id",
        "Identifies the browser to personalise X ads.",
        "2 years",
        domains=["x.com", "twitter.com"],
    ),
    cookie(
        "guest_id_ads",
        "Identifies a signed-out visitor for X ads.",
        "2 years",
        domains=["x.com", "twitter.com"],
    ),
)

# Reddit's ads help on the Reddit Pixel, and the Open Cookie Database (edgebucket).
REDDIT_PIXEL: Final[Preset] = vendor(
    "Reddit",
    "Advertising (Reddit Pixel)",
    "third_party",
    cookie("_rdt_uuid", "Identifies the browser to measure and target Reddit ads.", "90 days"),
    cookie("edgebucket", "Used by Reddit to deliver ads.", "2 years", domains=["reddit.com"]),
)

# Snap's business help on the Snap Pixel, and the Open Cookie Database.
SNAPCHAT_PIXEL: Final[Preset] = vendor(
    "Snap",
    "Advertising (Snap Pixel)",
    "third_party",
    cookie("_scid", "Identifies the browser to measure and target Snapchat ads.", "13 months"),
    cookie("_scid_r", "Identifies the browser for Snapchat retargeting.", "13 months"),
    cookie("_schn", "Marks the visit for Snapchat retargeting.", "1 day"),
    cookie("sc_at", "Identifies the visitor across sites.", "1 year", domains=["snapchat.com"]),
)

# Criteo's privacy policy (cto_bundle; the other cto_ names under one prefix).
CRITEO: Final[Preset] = vendor(
    "Criteo",
    "Advertising (Criteo retargeting)",
    "third_party",
    cookie("cto_bundle", "Links the visitor to Criteo's ad profile, for retargeting.", "13 months"),
    cookie("cto_*", "Other Criteo identifiers and domain tests.", "Up to 13 months"),
)

# Taboola's cookie policy, and the Open Cookie Database.
TABOOLA: Final[Preset] = vendor(
    "Taboola",
    "Recommendations and advertising (Taboola)",
    "third_party",
    cookie(
        "t_gid",
        "Identifies the visitor to Taboola, for recommendations and ads.",
        "13 months",
        domains=["taboola.com"],
    ),
    cookie(
        "t_pt_gid",
        "Identifies the visitor for Taboola's attribution and reports.",
        "1 year",
        domains=["taboola.com"],
    ),
    cookie(
        "taboola_session_id",
        "Avoids recommending the same item twice in a visit.",
        "Browser session",
        domains=["taboola.com"],
    ),
)
