# %% [markdown]
# # Settings review
# Every setting (passwords hidden) and every problem `config check` finds.

# %%
show(admin.config_problems() or "no problems found")

# %%
show(admin.settings())

# %% [markdown]
# ## The end of the log

# %%
show(admin.log_excerpt(60), kind="log")
