# %% [markdown]
# # Service health
# Is the email service alive, and what did its last checks find? The state comes from the
# heartbeat the service writes every minute; a service that stops beating shows as stopped
# within two minutes.

# %%
show(admin.status(), kind="status")

# %% [markdown]
# ## State changes and errors, newest first

# %%
show(admin.history() or "no history yet")

# %% [markdown]
# ## The last errors, in the server's own words

# %%
show(admin.last_errors() or "no errors recorded")

# %% [action] Restart the email service
show(admin.restart_service())
