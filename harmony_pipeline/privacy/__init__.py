"""privacy stage: keyed pseudonyms and date shifts on entry, de-facto anonymisation before publish.

- `pseudonym`: HMAC pseudonyms, per-person date shifts, age top-coding (used by the contracts reader)
- `anonymise`: generalisation hierarchies, k-anonymity search, suppression, perturbation (record-level marts)
- `small_cells`: small-cell and complementary suppression, Kaplan-Meier truncation (aggregate marts)
- `gates`: the blocking checks (k-anonymity, small cells, forbidden columns, identifier values)
- `report`: published/anonymisation_report.json
- `assets`: `build_privacy_assets(mart_asset_keys)` -> the release_candidate asset and its checks
- `hygiene`: `find_strings(paths, needles)` for key/identifier leak scans
- `cli`: `harmony pseudonym --source S --id X`
"""
