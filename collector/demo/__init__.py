"""The demo shop served at /demo/ and the seeder that fills the `demo` site with journeys."""
