"""neuroevo: a neuroevolution sandbox where small dense nets learn, by a genetic algorithm, to keep smileys alive."""

__version__ = "0.1.0"
