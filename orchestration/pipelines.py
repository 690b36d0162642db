"""The three pipelines of meltano.yml, and the vendor accounts each one reads or writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pipeline:
    """One Meltano job: its `meltano run` blocks and the shared budgets it draws on."""

    name: str  # the job's name in meltano.yml
    blocks: tuple[str, ...]
    reads_wisepops: bool
    writes_ghl: bool

    @property
    def job_name(self) -> str:
        """The Dagster job's name (Dagster names take no hyphens)."""
        return self.name.replace("-", "_")


PIPELINES = {
    p.name: p
    for p in (
        Pipeline(
            "sync-popl-to-ghl",
            ("tap-popl", "popl-to-ghl", "target-ghl"),
            reads_wisepops=False,
            writes_ghl=True,
        ),
        Pipeline(
            "sync-wisepops-to-ghl",
            ("tap-wisepops", "wisepops-to-ghl", "target-ghl"),
            reads_wisepops=True,
            writes_ghl=True,
        ),
        Pipeline(
            "sync-wisepops-to-popin",
            ("tap-wisepops", "wisepops-to-popin", "target-popin"),
            reads_wisepops=True,
            writes_ghl=False,
        ),
    )
}
