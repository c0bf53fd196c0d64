"""Source contracts: the declarative language (docs/contracts.md), its loader and the delivery readers."""

from harmony_pipeline.contracts.delivery import REJECT_COLUMNS, DeliveryRead, read_delivery
from harmony_pipeline.contracts.model import (
    Contract,
    ContractError,
    load_contract,
    load_contracts,
    parse_contract,
)
from harmony_pipeline.contracts.readers import DeliveryError

__all__ = [
    "REJECT_COLUMNS",
    "Contract",
    "ContractError",
    "DeliveryError",
    "DeliveryRead",
    "load_contract",
    "load_contracts",
    "parse_contract",
    "read_delivery",
]
