# %% [markdown]
# # The next 24 hours
# What the service will do and when, given the periods, pacing and send mode.

# %%
show({k: v for k, v in admin.settings().items() if k.startswith(("schedule.", "pacing."))})

# %%
show(admin.timeline(24), kind="log")

# %%
show(admin.preview(24) or "nothing planned in the next 24 hours")
