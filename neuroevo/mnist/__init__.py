"""MNIST lab: a genetic algorithm, OpenAI-ES and backprop training the same dense nets at matched budgets."""
