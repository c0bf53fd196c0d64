"""synth stage: the synthetic multi-source cohort generator (`harmony synth`, issue 3)."""

from harmony_pipeline.synth.generate import synthesise
from harmony_pipeline.synth.sources import SOURCE_IDS, SOURCES

__all__ = ["SOURCES", "SOURCE_IDS", "synthesise"]
