# %% [markdown]
# # Outbox health
# How many items are in each state, and why the failed ones failed. Failed items are not
# sent again until someone resets them.

# %%
show(admin.outbox_counts() or {"outbox": "empty"})

# %% [markdown]
# ## Failed items by reason

# %%
show(admin.failure_summary() or "no failed items")

# %%
show(admin.failed_items() or "no failed items")

# %% [action] Reset failed items (they will be tried again)
show(f"{admin.reset_failed()} item(s) reset")
