"""Storage: tables, engines, migrations, repositories and units of work.

The only package that imports SQLAlchemy. Two databases: the data store (sealed
customer data, audit log) and the keystore (wrapped keys), never the same one.
"""
