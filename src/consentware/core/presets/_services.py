"""Presets of embedded services: chat and CRM, payments, video players, CDN and bot checks.

A video player embedded from another site sets its cookies on that site's domain: its rules
name it (``youtube.com``) and are ``third_party``. Payment fraud checks and a CDN's security
cookies are ``necessary``, as their vendors declare them; a site that judges otherwise writes a
rule of the same name with its own ``category``, which wins.
"""

from __future__ import annotations

from typing import Final

from ._build import Preset, combine, cookie, vendor

# Intercom's help: "The Intercom Messenger's cookies" (one set per workspace ID).
INTERCOM: Final[Preset] = vendor(
    "Intercom",
    "Customer messaging (Intercom Messenger)",
    "first_party",
    cookie("intercom-id-*", "Identifies the visitor to the Messenger.", "9 months"),
    cookie(
        "intercom-session-*",
        "Keeps the visitor's Messenger session, so conversations continue.",
        "1 week",
    ),
    cookie("intercom-device-id-*", "Identifies the visitor's device to the Messenger.", "9 months"),
)

# HubSpot's knowledge base: "Cookies set in a visitor's browser by HubSpot".
HUBSPOT: Final[Preset] = combine(
    vendor(
        "HubSpot",
        "Marketing analytics (HubSpot)",
        "first_party",
        cookie(
            "__hstc", "Tracks visits: the first, last and current one, and their count.", "6 months"
        ),
        cookie(
            "hubspotutk", "Identifies the visitor, and the contact once a form is sent.", "6 months"
        ),
        cookie("__hssc", "Counts page views in the current visit.", "30 minutes"),
        cookie(
            "__hssrc",
            "Tells whether the browser restarted since the last visit.",
            "Browser session",
        ),
        cookie(
            "messagesUtk",
            "Recognises a visitor who chats, to continue the conversation.",
            "6 months",
            function="Chat (HubSpot)",
        ),
    ),
    vendor(
        "HubSpot",
        "Consent (HubSpot cookie banner)",
        "necessary",
        cookie("__hs_opt_out", "Remembers that the visitor refused HubSpot's cookies.", "6 months"),
        cookie("__hs_do_not_track", "Stops HubSpot's tracking code from sending data.", "6 months"),
        cookie(
            "__hs_cookie_cat_pref", "Remembers the categories the visitor accepted.", "6 months"
        ),
    ),
)

# Stripe's cookie policy: Stripe.js sets only the cookies its fraud prevention needs.
STRIPE: Final[Preset] = vendor(
    "Stripe",
    "Payment fraud prevention (Stripe.js)",
    "necessary",
    cookie("__stripe_mid", "Identifies the device to Stripe's fraud prevention.", "1 year"),
    cookie(
        "__stripe_sid", "Identifies the checkout visit to Stripe's fraud prevention.", "30 minutes"
    ),
)

# Google's "How Google uses cookies" (YouTube embeds; youtube-nocookie.com sets none until play).
YOUTUBE: Final[Preset] = vendor(
    "Google",
    "Embedded videos (YouTube)",
    "third_party",
    cookie(
        "YSC",
        "Keeps the player's session and counts the videos watched.",
        "Browser session",
        domains=["youtube.com"],
    ),
    cookie(
        "VISITOR_INFO1_LIVE",
        "Estimates bandwidth and remembers player settings; used for recommendations and ads.",
        "6 months",
        domains=["youtube.com"],
    ),
    cookie(
        "VISITOR_PRIVACY_METADATA",
        "Stores the visitor's cookie choices for YouTube.",
        "6 months",
        domains=["youtube.com"],
    ),
    cookie(
        "PREF",
        "Remembers player preferences, such as language and volume.",
        "8 months",
        domains=["youtube.com"],
    ),
)

# Vimeo's cookie policy (embeds with ?dnt=1 set no cookie).
VIMEO: Final[Preset] = vendor(
    "Vimeo",
    "Embedded videos (Vimeo)",
    "third_party",
    cookie(
        "vuid",
        "Identifies the visitor to Vimeo's player analytics.",
        "2 years",
        domains=["vimeo.com"],
    ),
)

# https://developers.cloudflare.com/fundamentals/reference/policies-compliances/cloudflare-cookies/
CLOUDFLARE: Final[Preset] = vendor(
    "Cloudflare",
    "Security and performance (Cloudflare)",
    "necessary",
    cookie("__cf_bm", "Tells people from bots (Bot Management).", "30 minutes"),
    cookie(
        "cf_clearance",
        "Proves the visitor passed a challenge.",
        "The site's challenge passage, 30 minutes by default",
    ),
    cookie(
        "_cfuvid", "Tells visitors apart behind one IP address, for rate limits.", "Browser session"
    ),
    cookie(
        "__cflb", "Keeps the visitor on one origin server (load balancing).", "23 hours by default"
    ),
    cookie("__cfruid", "Identifies trusted traffic, for rate limits.", "Browser session"),
    cookie("cf_chl_*", "Runs a challenge (CAPTCHA or JavaScript check).", "Browser session"),
    cookie("__cfwaitingroom", "Keeps the visitor's place in a waiting room.", "Browser session"),
)

# Google's reCAPTCHA FAQ (_GRECAPTCHA, on www.google.com under /recaptcha).
RECAPTCHA: Final[Preset] = vendor(
    "Google",
    "Spam and abuse protection (reCAPTCHA)",
    "necessary",
    cookie(
        "_GRECAPTCHA",
        "Tells people from bots when a form is protected by reCAPTCHA.",
        "6 months",
        domains=["www.google.com"],
        path="/recaptcha",
    ),
)
