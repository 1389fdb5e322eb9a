"""The tidy trace of a run: one row per step, actor, issue and quantity, from the model's record."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.model import Talks

TRACE_COLUMNS = ["step", "actor", "issue", "quantity", "value"]


ACTOR_LEVEL = "all"
"""The issue column's value for quantities that belong to an actor, not an issue."""


TABLE = "table"
"""The actor column's value for a text no actor proposed (proposer -1), such as a protocol's forecast."""


def trace_frame(model: Talks) -> pd.DataFrame:
    """The tidy trace: one row per step, actor, issue and quantity (with `seed` for a batch)."""
    collector = model.recorder
    if collector is None or not collector.model_vars.get("active"):
        return pd.DataFrame(columns=TRACE_COLUMNS)
    data = {name: np.array(values) for name, values in collector.model_vars.items()}
    talks = model.negotiation
    steps = np.arange(1, len(data["active"]) + 1)
    active = data["active"]
    offer = data["offer"]
    open_before = ~np.isnan(offer)
    actors = np.array([*talks.actors, TABLE])
    issues = np.array(talks.column_names)
    signatories = np.array([g.index for g in model.signatories])
    present = np.array([actor.present for actor in model.actors])
    parts: dict[str, list[np.ndarray]] = {column: [] for column in ("seed", "step", *TRACE_COLUMNS[1:])}

    def add(quantity: str, mask: np.ndarray, actor: np.ndarray, issue: np.ndarray, value: np.ndarray) -> None:
        mask = np.broadcast_to(mask, value.shape)
        where = np.nonzero(mask)
        count = len(where[0])
        parts["seed"].append(model.seeds[where[1]])
        parts["step"].append(steps[where[0]])
        parts["actor"].append(actor[where] if actor.ndim == mask.ndim else np.repeat(actor, count))
        parts["issue"].append(issue[where] if issue.ndim == mask.ndim else np.repeat(issue, count))
        parts["quantity"].append(np.repeat(quantity, count))
        parts["value"].append(value[where].astype(float))

    shape = offer.shape
    add(
        "offer",
        active[:, :, None] & open_before,
        np.broadcast_to(actors[data["proposer"]][:, :, None], shape),
        np.broadcast_to(issues, shape),
        offer,
    )
    positions = np.broadcast_to(data["position"][:, None], (*shape[:2], *data["position"].shape[1:]))
    cells = positions.shape
    add(
        "position",
        active[:, :, None, None] & open_before[:, :, None, :] & present[None, None, :, None],
        np.broadcast_to(actors[:-1, None], cells),
        np.broadcast_to(issues, cells),
        positions,
    )
    accept = data["accept"]
    if accept.size:
        add(
            "accept",
            active[:, :, None, None] & open_before[:, :, None, :],
            np.broadcast_to(actors[signatories][:, None], accept.shape),
            np.broadcast_to(issues, accept.shape),
            accept.astype(float),
        )
    taus = steps / model.max_steps
    aspiration = np.stack([actor.aspiration(taus) for actor in model.actors], axis=1)
    per_actor = (len(steps), model.n_replications, talks.n_actors)
    text = data["text"]
    adopted = data["adopted"] & ~np.isnan(text)
    utility = np.stack([actor.utility(np.nan_to_num(text), adopted) for actor in model.actors], axis=2)
    actor_mask = active[:, :, None] & present[None, None, :]
    add(
        "aspiration",
        actor_mask,
        np.broadcast_to(actors[:-1], per_actor),
        np.array(ACTOR_LEVEL),
        np.broadcast_to(aspiration[:, None, :], per_actor),
    )
    add("utility", actor_mask, np.broadcast_to(actors[:-1], per_actor), np.array(ACTOR_LEVEL), utility)

    rows = {name: np.concatenate(values) for name, values in parts.items()}
    order = np.lexsort((rows["step"], rows["seed"]))
    kept = TRACE_COLUMNS if model.n_replications == 1 else ["seed", *TRACE_COLUMNS]
    return pd.DataFrame({name: rows[name][order] for name in kept})
