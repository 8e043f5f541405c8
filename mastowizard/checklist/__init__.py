"""The live checklist, the troubleshooting knowledge base, the nginx snippets and the generated provider docs."""
