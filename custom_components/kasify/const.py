"""Constants for the Kasify integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "kasify"
LOGGER = logging.getLogger(__package__)

# Config entry data
CONF_KIND: Final = "kind"
CONF_API_TOKEN: Final = "api_token"
CONF_KEY: Final = "key"
CONF_SECRET: Final = "secret"
KIND_KASIFY: Final = "kasify"
KIND_CASAVI: Final = "casavi"
KIND_NUKI: Final = "nuki"
KIND_UNIFI: Final = "unifi_access"
KIND_REMOTELOCK: Final = "remotelock"
# UniFi Access: host, port and verify_ssl are homeassistant.const's CONF_*; plus an optional pinned
# SHA-256 certificate fingerprint.
CONF_FINGERPRINT: Final = "fingerprint"
DEFAULT_UNIFI_PORT: Final = 12445

DEFAULT_KASIFY_URL: Final = "https://api.kasify.com/v1"
DEFAULT_CASAVI_URL: Final = "https://api.mycasavi.com"
DEFAULT_NUKI_URL: Final = "https://api.nuki.io"
DEFAULT_REMOTELOCK_URL: Final = "https://api.remotelock.com"
DEFAULT_REMOTELOCK_OAUTH_URL: Final = "https://connect.remotelock.com"
# RemoteLock: the OAuth server of a client-credentials entry (its client id and secret are
# homeassistant.const's CONF_CLIENT_*); authorization-code entries keep HA's "auth_implementation" + "token".
CONF_OAUTH_URL: Final = "oauth_url"
# RemoteLock options: location id → property device identifier ("" = no property), and the webhook.
CONF_LOCATIONS: Final = "locations"
CONF_WEBHOOK: Final = "webhook"
CONF_WEBHOOK_ID: Final = "webhook_id"
CONF_WEBHOOK_SECRET: Final = "webhook_secret"
# The subscriber and subscription the integration created at RemoteLock for the webhook.
CONF_WEBHOOK_SUBSCRIBER: Final = "webhook_subscriber"
CONF_WEBHOOK_SUBSCRIPTION: Final = "webhook_subscription"

# Options
CONF_ICAL_FEEDS: Final = "ical_feeds"
CONF_PROPERTY: Final = "property"
CONF_FEED_INTERVAL: Final = "interval"
MIN_FEED_INTERVAL_MINUTES: Final = 5
MAX_FEED_INTERVAL_MINUTES: Final = 1440
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_CALENDAR_DAYS: Final = "calendar_days"
DEFAULT_SCAN_INTERVAL: Final = 60
MIN_SCAN_INTERVAL: Final = 30
MAX_SCAN_INTERVAL: Final = 3600
DEFAULT_CALENDAR_DAYS: Final = 90
MIN_CALENDAR_DAYS: Final = 7
MAX_CALENDAR_DAYS: Final = 365

# Per-property settings (Kasify options, step "stay_times"): property id → the settings below. The stay times
# are used when Kasify sends a check-in or check-out without a zone (a plain date, or a date-time without an
# offset).
CONF_STAY_TIMES: Final = "stay_times"
CONF_CHECK_IN_TIME: Final = "check_in_time"
CONF_CHECK_OUT_TIME: Final = "check_out_time"
CONF_TIME_ZONE: Final = "time_zone"
DEFAULT_CHECK_IN_TIME: Final = "15:00:00"
DEFAULT_CHECK_OUT_TIME: Final = "11:00:00"
# Also per property (same step): the shortest time between a check-out and the next check-in, in hours, below
# which a repair issue is raised (0: never).
CONF_MIN_TURNOVER: Final = "min_turnover"
DEFAULT_MIN_TURNOVER_HOURS: Final = 3
MAX_MIN_TURNOVER_HOURS: Final = 48
# Also per property: a lock's battery below this level (%) keeps the property from being ready for the next
# guest (a Nuki lock's "critical" flag does too, whatever the level).
CONF_LOW_BATTERY: Final = "low_battery"
DEFAULT_LOW_BATTERY: Final = 25

# How far back the coordinator keeps bookings (the calendar pages the API for older ranges).
BOOKINGS_LOOKBACK: Final = timedelta(days=30)

# Bus events
EVENT_CHECK_IN: Final = "kasify_check_in"
EVENT_CHECK_OUT: Final = "kasify_check_out"

# Stay event entity types
STAY_CHECK_IN: Final = "check_in"
STAY_CHECK_OUT: Final = "check_out"
STAY_GUEST_REGISTERED: Final = "guest_registered"
STAY_BOOKING_CREATED: Final = "booking_created"
STAY_BOOKING_CANCELLED: Final = "booking_cancelled"
STAY_GUEST_ARRIVED: Final = "guest_arrived"
STAY_EVENT_TYPES: Final = [
    STAY_CHECK_IN,
    STAY_CHECK_OUT,
    STAY_GUEST_REGISTERED,
    STAY_BOOKING_CREATED,
    STAY_BOOKING_CANCELLED,
    STAY_GUEST_ARRIVED,
]

PROPERTY_SOURCE_MANUFACTURERS: Final = {KIND_KASIFY: "Kasify", KIND_CASAVI: "casavi"}
VENDOR_MANUFACTURERS: Final = {"nuki": "Nuki", "unifi": "Ubiquiti", "remotelock": "RemoteLock"}

# Automatic per-booking access codes (Kasify options, step "access_codes")
CONF_AUTO_CODES: Final = "auto_codes"
CONF_AUTO_CODES_LEAD_HOURS: Final = "auto_codes_lead_hours"
CONF_AUTO_CODES_START_OFFSET: Final = "auto_codes_start_offset"
CONF_AUTO_CODES_END_OFFSET: Final = "auto_codes_end_offset"
DEFAULT_AUTO_CODES_LEAD_HOURS: Final = 48
MIN_AUTO_CODES_LEAD_HOURS: Final = 1
MAX_AUTO_CODES_LEAD_HOURS: Final = 336
# Minutes the code is valid before check-in and after check-out.
DEFAULT_AUTO_CODES_START_OFFSET: Final = 0
DEFAULT_AUTO_CODES_END_OFFSET: Final = 30
MAX_AUTO_CODES_OFFSET: Final = 1440
