"""HCP Terraform (Terraform Cloud) projects client: JSON:API, paging, a 30 requests/second budget."""

from bot.backends.terraform.client import TerraformClient
from bot.backends.terraform.models import MovedWorkspaces, TerraformProject, TerraformWorkspace

__all__ = ["MovedWorkspaces", "TerraformClient", "TerraformProject", "TerraformWorkspace"]
