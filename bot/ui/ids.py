"""Every Slack action, callback and block id projectops uses, in one place.

Listeners (handlers/) match on these; builders (bot/ui, operation renderers) put them on buttons,
menus and modals. A value that changes here changes on both sides at once.
"""

from __future__ import annotations

import re

# Confirmation of destructive work
CONFIRM_ACTION = "projectops_confirm"
CANCEL_ACTION = "projectops_cancel"
CONFIRM_BLOCK = "projectops_confirmation"
TYPED_CALLBACK = "projectops_typed_confirm"
TYPED_BLOCK = "typed_name"

# Two-person approval
APPROVE_ACTION = "projectops_approve"
REJECT_ACTION = "projectops_reject"

# Read results
SHARE_ACTION = "projectops_share"
SHARE_BLOCK = "projectops_share"
#: Buttons whose value is a `/projects` text to run again as the clicker (Previous / Next, refresh).
PAGE_ACTION = "projectops_rerun"
RERUN_ACTION = re.compile(rf"^{PAGE_ACTION}(_\w+)?$")
#: A row's overflow menu (Show / Edit / Delete…): its option value is a `/projects` text.
ROW_ACTION = "projectops_row"

# Create / edit forms
CREATE_BUTTON = "projectops_open_create"
CREATE_CALLBACK = "projectops_create"
EDIT_CALLBACK = "projectops_edit"
EDIT_PICK_CALLBACK = "projectops_edit_pick"
TARGET_BLOCK = "target"
TARGET_ACTION = "projectops_create_target"
PICK_TARGET_ACTION = "projectops_pick_target"
PICK_PROJECT_ACTION = "projectops_pick_project"

# Matillion provisioning form
PROVISION_CALLBACK = "projectops_provision"
PROVISION_RESUME_CALLBACK = "projectops_provision_resume"
PROVISION_RESUME_ACTION = "projectops_provision_resume"

# The assistant
#: A clarifying question's candidate buttons: the value is the `/projects` text the candidate means.
ASSIST_CHOICE_ACTION = "projectops_assist_choice"
ASSIST_CHOICE = re.compile(rf"^{ASSIST_CHOICE_ACTION}(_\d+)?$")
ASSIST_CHOICE_BLOCK = "projectops_assist_choices"
#: Good / Misunderstood under an assistant answer: the value is `<verdict>:<audit id of the message>`.
ASSIST_FEEDBACK_ACTION = "projectops_assist_feedback"
ASSIST_FEEDBACK_BLOCK = "projectops_assist_feedback"
