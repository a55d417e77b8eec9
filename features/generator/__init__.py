"""A generated customer world with known answers: six input tables plus ground truth."""

from features.generator.settings import GeneratorSettings, Messiness
from features.generator.world import WorldSummary, generate_world

__all__ = ["GeneratorSettings", "Messiness", "WorldSummary", "generate_world"]
