"""Slack stand-ins: Web API emulator, signed-request builder and offline Block Kit validator."""

from sandbox.slack.blockkit import validate
from sandbox.slack.emulator import SlackEmulator
from sandbox.slack.signing import SignedRequest, SlackRequestBuilder
from sandbox.slack.web_api import RecordedCall, Rejection, SlackWebApi, UploadedFile

__all__ = [
    "RecordedCall",
    "Rejection",
    "SignedRequest",
    "SlackEmulator",
    "SlackRequestBuilder",
    "SlackWebApi",
    "UploadedFile",
    "validate",
]
