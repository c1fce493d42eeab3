"""The privacy notice shown to applicants, and its version.

Every consent event stores the version of the notice the person saw, so what they
agreed to can be shown later. Change NOTICE_VERSION whenever the wording of
templates/public/privacy.html or of the consent boxes changes in substance; older
events keep naming the version that was current when they were given.
"""

NOTICE_VERSION = "2026-11-24"
