"""The time zone the vault's people live in: one name for dates on pages, in export file
names and on vacancies (the controller and its vacancies are in Belgium)."""

from zoneinfo import ZoneInfo

LOCAL_ZONE_NAME = "Europe/Brussels"
LOCAL_ZONE = ZoneInfo(LOCAL_ZONE_NAME)
