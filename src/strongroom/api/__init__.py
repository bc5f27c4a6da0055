"""The HTTPS API: FastAPI routes over the services, problem+json errors, TLS serving."""
