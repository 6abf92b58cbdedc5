"""Slack UI at the bottom of the house: Block Kit builders, every action/callback/block id, shared views.

Nothing here imports operations, back ends or the Slack workflows; they all import this.
"""
