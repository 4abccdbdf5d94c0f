"""agentops-audit: evidence-based readiness audits for tool-using LLM agents."""

__version__ = "0.1.0"
