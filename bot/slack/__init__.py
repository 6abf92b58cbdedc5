"""Slack workflows above the choke point.

Listeners (handlers/) ack, build the request and hand it here. One way to run a request from any
surface (`runner`), confirmation (`confirm`), two-person approval (`approvals`), live progress
(`progress`), the create / edit and provisioning forms (`forms`, `provisioning`), the Home view
(`home`), and where answers go (`replies`). Block Kit builders and ids live below, in `bot.ui`.
"""
